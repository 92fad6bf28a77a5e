import { createRouter, createWebHistory } from 'vue-router'
import { session } from '@/api/client'
import Login from './views/Login.vue'
import Layout from './Layout.vue'

/** Each role's first screen. */
export const HOME: Record<string, string> = { doctor: '/worklists', educator: '/lessons', admin: '/indicators', bureau: '/indicators' }

export const router = createRouter({
  history: createWebHistory('/app/'),
  routes: [
    { path: '/login', name: 'login', component: Login, meta: { public: true } },
    {
      path: '/',
      component: Layout,
      children: [
        { path: '', name: 'start', redirect: () => HOME[session.role ?? ''] ?? '/login' },
        { path: 'worklists', name: 'worklists', component: () => import('./views/Worklists.vue'), meta: { roles: ['doctor'] } },
        { path: 'patients', name: 'patients', component: () => import('./views/Patients.vue'), meta: { roles: ['doctor'] } },
        { path: 'patients/:id', name: 'patient', component: () => import('./views/Patient.vue'), meta: { roles: ['doctor'] } },
        { path: 'lessons', name: 'lessons', component: () => import('./views/Lessons.vue'), meta: { roles: ['educator', 'admin'] } },
        { path: 'lessons/new', name: 'lesson-new', component: () => import('./views/LessonEdit.vue'), meta: { roles: ['educator', 'admin'] } },
        { path: 'lessons/:id', name: 'lesson', component: () => import('./views/LessonEdit.vue'), meta: { roles: ['educator', 'admin'] } },
        { path: 'review', name: 'review', component: () => import('./views/Review.vue'), meta: { roles: ['educator', 'admin'] } },
        { path: 'indicators', name: 'indicators', component: () => import('./views/Indicators.vue'), meta: { roles: ['admin', 'bureau'] } },
        { path: 'institutions', name: 'institutions', component: () => import('./views/Institutions.vue'), meta: { roles: ['admin'] } },
        { path: 'audit', name: 'audit', component: () => import('./views/Audit.vue'), meta: { roles: ['admin'] } },
      ],
    },
    { path: '/:rest(.*)', redirect: '/' },
  ],
})

router.beforeEach((to) => {
  if (to.meta.public) return true
  if (!session.token) return { name: 'login' }
  const roles = to.meta.roles as string[] | undefined
  if (roles && !roles.includes(session.role ?? '')) return HOME[session.role ?? ''] ?? { name: 'login' }
  return true
})
